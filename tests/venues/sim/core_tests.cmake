# The simulated exchange core's unit tests (no sockets).
nzeza_add_test(sim_matching_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/matching_test.cc
               LIBS nzeza::venues_sim LABELS unit TIMEOUT 60)
nzeza_add_test(sim_jwt_verify_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/jwt_verify_test.cc
               LIBS nzeza::venues_sim simdjson::simdjson OpenSSL::Crypto LABELS unit TIMEOUT 60)
nzeza_add_test(sim_exchange_rest_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/exchange_rest_test.cc
               LIBS nzeza::venues_sim simdjson::simdjson OpenSSL::Crypto LABELS unit TIMEOUT 60)
nzeza_add_test(sim_exchange_ws_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/exchange_ws_test.cc
               LIBS nzeza::venues_sim simdjson::simdjson OpenSSL::Crypto LABELS unit TIMEOUT 60)
nzeza_add_test(sim_market_model_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/market_model_test.cc
               LIBS nzeza::venues_sim simdjson::simdjson OpenSSL::Crypto LABELS unit TIMEOUT 60)
