#include "run_helper.h"

#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "guest_fixture.h"

namespace numasoak::testing {

int run_helper_main(const char* init) {
  auto plan = small_plan(kernel_61(), image_with_init(init), std::string("helper-") + init);
  const char* duration = std::getenv("NUMASOAK_RUN_HELPER_DURATION");
  plan.duration = std::chrono::seconds(duration ? std::atoi(duration) : 10);
  const RunResult r = run_to_end(plan, std::chrono::seconds(300), [](boost::asio::io_context&, Run&) {
    std::cout << "numasoak-helper: workload started" << std::endl;
  });
  std::cout << nlohmann::json(r).dump() << std::endl;
  return 0;
}

}  // namespace numasoak::testing
