# The simulated venue's servers and SimVenue, over real TLS on loopback (every wait bounded).
# Included from tests/venues/sim/CMakeLists.txt.
if(TARGET nzeza_venues_sim_server)
  nzeza_add_test(sim_server_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/server_test.cc
                 LIBS nzeza::venues_sim_server nzeza::net simdjson::simdjson
                 LABELS unit concurrency TIMEOUT 120)
  nzeza_add_test(sim_server_cert_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/server_cert_test.cc
                 LIBS nzeza::venues_sim_server nzeza::net OpenSSL::SSL OpenSSL::Crypto
                 LABELS unit concurrency TIMEOUT 60)
endif()
if(TARGET nzeza_venues_sim_server AND TARGET nzeza_venues_sim)
  nzeza_add_test(sim_venue_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/sim_venue_test.cc
                 LIBS nzeza::venues_sim_server nzeza::venues_sim nzeza::net simdjson::simdjson
                      OpenSSL::Crypto
                 LABELS unit concurrency TIMEOUT 120)
endif()
