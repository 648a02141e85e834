# One ctest test per googletest *suite* (tests/CMakeLists.txt, tradesphere_test_tier).
#
# Runs inside ctest when it reads the test list (like gtest_discover_tests' PRE_TEST
# mode): lists the executable's tests and adds `<Suite>` running
# `<exe> --gtest_filter=<Suite>.*`. One process per suite instead of one per test:
# a sanitizer build pays ~0.2 s of CPU to start a test executable, ~100 s per CI
# run for ~500 tests. Every test still runs; a failing test's name and output are in
# the suite's output (ctest --output-on-failure).
#
# Variables set by the including file: _TS_EXE, _TS_LABEL, _TS_TIMEOUT, _TS_UNIT_COST
# (seconds a test of this tier takes, for the COST estimate), _TS_HEAVY (list of
# Suite=seconds measured for the suites that take much longer, or Suite.Test=seconds for
# one test of a split suite) and _TS_SPLIT (suites
# so long that each of their tests is a ctest test of its own, `<Suite>.<Test>`, so
# that both cores share them).
# COST orders the run longest first, so -j2 does not end with one core busy on a
# long suite; ctest replaces it with its own measurements once a build folder has run.
if(NOT EXISTS "${_TS_EXE}")
  add_test(${_TS_LABEL}_NOT_BUILT "${_TS_EXE}")
  set_tests_properties(${_TS_LABEL}_NOT_BUILT PROPERTIES LABELS ${_TS_LABEL})
  return()
endif()
execute_process(COMMAND "${_TS_EXE}" --gtest_list_tests
                OUTPUT_VARIABLE _ts_out ERROR_VARIABLE _ts_err RESULT_VARIABLE _ts_rc TIMEOUT 60)
if(NOT _ts_rc EQUAL 0)
  # Listing failed: one failing test that shows why, rather than no tests at all.
  add_test(${_TS_LABEL}_LIST_FAILED "${_TS_EXE}" --gtest_list_tests)
  set_tests_properties(${_TS_LABEL}_LIST_FAILED PROPERTIES LABELS ${_TS_LABEL})
  return()
endif()
string(REPLACE ";" "\\;" _ts_out "${_ts_out}")
string(REPLACE "\n" ";" _ts_lines "${_ts_out}")
set(_ts_suite "")
set(_ts_count 0)
set(_ts_split FALSE)
macro(_ts_flush)
  if(NOT _ts_suite STREQUAL "" AND _ts_count GREATER 0 AND NOT _ts_split)
    math(EXPR _ts_cost "${_ts_count} * ${_TS_UNIT_COST}")
    foreach(_ts_heavy IN LISTS _TS_HEAVY)
      if(_ts_heavy MATCHES "^([^=]+)=([0-9]+)$" AND CMAKE_MATCH_1 STREQUAL _ts_suite)
        math(EXPR _ts_cost "${_ts_cost} + ${CMAKE_MATCH_2}")
      endif()
    endforeach()
    add_test("${_ts_suite}" "${_TS_EXE}" "--gtest_filter=${_ts_suite}.*")
    set_tests_properties("${_ts_suite}" PROPERTIES LABELS ${_TS_LABEL} TIMEOUT ${_TS_TIMEOUT} COST ${_ts_cost})
  endif()
endmacro()
foreach(_ts_line IN LISTS _ts_lines)
  string(REGEX REPLACE "  #.*$" "" _ts_line "${_ts_line}")
  if(_ts_line MATCHES "^([^ ].*)\\.$")
    set(_ts_next "${CMAKE_MATCH_1}")
    _ts_flush()
    set(_ts_suite "${_ts_next}")
    set(_ts_count 0)
    set(_ts_split FALSE)
    list(FIND _TS_SPLIT "${_ts_suite}" _ts_found)
    if(NOT _ts_found EQUAL -1)
      set(_ts_split TRUE)
    endif()
  elseif(_ts_line MATCHES "^  ([^ ]+)")
    math(EXPR _ts_count "${_ts_count} + 1")
    if(_ts_split)
      set(_ts_name "${_ts_suite}.${CMAKE_MATCH_1}")
      set(_ts_cost ${_TS_UNIT_COST})
      foreach(_ts_heavy IN LISTS _TS_HEAVY)  # Suite.Test=seconds: one long test of a split suite
        if(_ts_heavy MATCHES "^([^=]+)=([0-9]+)$" AND CMAKE_MATCH_1 STREQUAL _ts_name)
          math(EXPR _ts_cost "${_ts_cost} + ${CMAKE_MATCH_2}")
        endif()
      endforeach()
      add_test("${_ts_name}" "${_TS_EXE}" "--gtest_filter=${_ts_name}")
      set_tests_properties("${_ts_name}" PROPERTIES LABELS ${_TS_LABEL} TIMEOUT ${_TS_TIMEOUT} COST ${_ts_cost})
    endif()
  endif()
endforeach()
_ts_flush()
