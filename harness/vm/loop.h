// Running the caller's io_context until something is ready: the one helper
// for "pump the loop until the probe answered / the run ended / the
// campaign is over" (no sleep loops, no second loop).
#pragma once

#include <boost/asio/io_context.hpp>

namespace numasoak::vm {

/// Runs handlers on `io` one at a time until `ready()` is true or `io` has
/// no work left (or was stopped); returns ready(). Call io.restart()
/// before running `io` again if it ran out of work.
template <class Ready>
bool run_loop_until(boost::asio::io_context& io, Ready&& ready) {
  while (!ready()) {
    if (io.run_one() == 0) return ready();
  }
  return true;
}

}  // namespace numasoak::vm
