# Shared build conventions.
#
# Every folder under harness/ (but cli/) is one module and one static library,
# numasoak_<module>, made of the .cpp files in that folder and its subfolders.
# Headers are included from the harness/ root: #include "console/detector.h".
# Tests for a module live in tests/unit/<module>/ and become test_<module>.

set(NUMASOAK_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
    -Wold-style-cast -Wcast-align -Woverloaded-virtual)

function(numasoak_compile_options target)
  target_compile_options(${target} PRIVATE ${NUMASOAK_WARNINGS})
  # Harness code waits on guests, builds and disks: -O1 compiles it about a
  # quarter faster than the build type's -O2 (README, Benchmark, "The harness
  # build"). It comes after -O2 on the command line, so it wins. The guest
  # programs do not use this function and keep -O2: their speed drives the race.
  if(CMAKE_BUILD_TYPE STREQUAL "RelWithDebInfo")
    target_compile_options(${target} PRIVATE -O1)
  endif()
  if(NUMASOAK_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()

# numasoak_module(<name> [DEPS <targets>...])
function(numasoak_module name)
  cmake_parse_arguments(ARG "" "" "DEPS" ${ARGN})
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  add_library(numasoak_${name} STATIC ${srcs})
  target_include_directories(numasoak_${name} PUBLIC ${NUMASOAK_HARNESS_DIR})
  target_link_libraries(numasoak_${name} PUBLIC ${ARG_DEPS})
  target_compile_definitions(numasoak_${name} PUBLIC
    NUMASOAK_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    NUMASOAK_VERSION="${PROJECT_VERSION}")
  numasoak_compile_options(numasoak_${name})
  if(NUMASOAK_SANITIZE)
    target_link_options(numasoak_${name} PUBLIC -fsanitize=address,undefined)
  endif()
endfunction()
