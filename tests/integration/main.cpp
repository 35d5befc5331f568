// test_integration's main: the GoogleTest runner, or, when a test started
// this executable as a helper process (an environment variable says which),
// that helper's body alone, so helpers never show up as tests.
#include <gtest/gtest.h>

#include <cstdlib>

#include "libvirt_support.h"

int main(int argc, char** argv) {
  if (const char* guest = std::getenv("NUMASOAK_LIBVIRT_HELPER_GUEST")) {
    return numasoak::testing::libvirt_helper_main(guest);
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
