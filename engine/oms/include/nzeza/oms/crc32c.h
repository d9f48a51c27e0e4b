// CRC-32C (Castagnoli), the checksum of journal records.
//
//   uint32_t crc = nzeza::oms::Crc32c(data, size);          // one shot
//   crc = nzeza::oms::Crc32cExtend(crc, more, more_size);    // continue over more bytes
//
// Debian 12's Abseil (20220623) has no absl/crc, so the library carries its own: the SSE4.2
// `crc32` instruction where the CPU has it (checked once, at first use), else slicing-by-8 tables.
// Both give the same value as absl::ComputeCrc32c / RFC 3720 ("123456789" -> 0xE3069283).
#ifndef NZEZA_OMS_CRC32C_H_
#define NZEZA_OMS_CRC32C_H_

#include <cstddef>
#include <cstdint>

namespace nzeza::oms {

// CRC-32C of `size` bytes continuing from `crc` (0 to start).
// Thread: any. Allocates: never. Complexity: O(size), ~0.1 ns/byte with SSE4.2.
uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t size) noexcept;

// CRC-32C of `size` bytes. Thread: any. Allocates: never.
inline uint32_t Crc32c(const void* data, size_t size) noexcept {
  return Crc32cExtend(0, data, size);
}

// The portable table-driven path, exposed so tests can check it against the hardware one.
uint32_t Crc32cExtendPortable(uint32_t crc, const void* data, size_t size) noexcept;

}  // namespace nzeza::oms

#endif  // NZEZA_OMS_CRC32C_H_
