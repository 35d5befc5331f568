// ProcessBackend: a "guest" that is any local program, its stdout the
// console. For feeding a Run what a TCG guest cannot produce in test time
// (100 MB of console output in seconds) through the real pipeline: Run,
// LineAssembler, Detector, console log with its cap. The program is a real
// child process on the io_context; nothing here is simulated but the
// kernel.
#pragma once

#include <boost/asio/io_context.hpp>
#include <string>
#include <vector>

#include "vm/backend.h"

namespace numasoak::testing {

class ProcessBackend : public vm::Backend {
 public:
  ProcessBackend(boost::asio::io_context& io, std::vector<std::string> argv) : io_(io), argv_(std::move(argv)) {}
  std::string name() const override { return "process"; }
  std::unique_ptr<vm::Guest> start(const vm::GuestSpec& spec, vm::GuestHandlers handlers) override;

 private:
  boost::asio::io_context& io_;
  std::vector<std::string> argv_;
};

}  // namespace numasoak::testing
