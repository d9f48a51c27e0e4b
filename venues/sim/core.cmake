# nzeza::venues_sim: the simulated exchange core, with no sockets: products and price-time-priority
# matching (matching.h), accounts, the seeded market model (market_model.h), JWT ES256
# verification as Coinbase does it (jwt_verify.h) and the Coinbase Advanced Trade protocol, REST
# and WebSocket (exchange.h). The servers in server.cmake ferry bytes to and from it.
add_library(nzeza_venues_sim
  ${CMAKE_CURRENT_LIST_DIR}/src/exchange.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/jwt_verify.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/market_model.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/matching.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/protocol_util.cc
)
add_library(nzeza::venues_sim ALIAS nzeza_venues_sim)
target_include_directories(nzeza_venues_sim PUBLIC ${CMAKE_CURRENT_LIST_DIR}/include)
target_link_libraries(nzeza_venues_sim
  PUBLIC nzeza::core absl::status absl::statusor absl::flat_hash_map
  PRIVATE nzeza::options simdjson::simdjson OpenSSL::Crypto absl::strings)
