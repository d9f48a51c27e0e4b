# nzeza::venues_sim_server: the simulated venue's TLS WebSocket + REST servers, the admin
# (fault injection) endpoint, its certificate, and the embeddable SimVenue (when the exchange
# core, nzeza::venues_sim, exists). Included from venues/sim/CMakeLists.txt.
set(_nz_sim_server_sources
  ${CMAKE_CURRENT_SOURCE_DIR}/src/cert.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/src/server.cc
)
if(TARGET nzeza_venues_sim)
  list(APPEND _nz_sim_server_sources ${CMAKE_CURRENT_SOURCE_DIR}/src/sim_venue.cc)
endif()
add_library(nzeza_venues_sim_server ${_nz_sim_server_sources})
add_library(nzeza::venues_sim_server ALIAS nzeza_venues_sim_server)
nzeza_io_target(nzeza_venues_sim_server)
target_include_directories(nzeza_venues_sim_server PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include)
target_link_libraries(nzeza_venues_sim_server
  PUBLIC nzeza::core nzeza::net absl::status absl::statusor
  PRIVATE nzeza::options Boost::headers OpenSSL::SSL OpenSSL::Crypto simdjson::simdjson
          absl::strings Threads::Threads)
if(TARGET nzeza_venues_sim)
  target_link_libraries(nzeza_venues_sim_server PUBLIC nzeza::venues_sim)
endif()
