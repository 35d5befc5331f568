// test_integration's main: the GoogleTest runner, or, when a test started
// this executable as a helper process (an environment variable says which),
// that helper's body alone, so helpers never show up as tests.
#include <gtest/gtest.h>

#include <cstdlib>

#include "libvirt_support.h"
#include "run_helper.h"

int main(int argc, char** argv) {
  if (const char* guest = std::getenv("NUMASOAK_LIBVIRT_HELPER_GUEST")) {
    return numasoak::testing::libvirt_helper_main(guest);
  }
  if (const char* init = std::getenv("NUMASOAK_RUN_HELPER_INIT")) return numasoak::testing::run_helper_main(init);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
