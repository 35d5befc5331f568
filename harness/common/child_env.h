// child_env.h — the environment a child process starts with.
#pragma once

#include <boost/process/environment.hpp>

namespace numasoak {

// This process's environment with each (name, value) of `overrides` set.
//
// Every environment change for a child goes through here because Boost
// 1.74's environment::operator[] and find() memcmp "NAME=" against each entry
// without checking its length, reading past entries shorter than the name
// (AddressSanitizer reports a heap-buffer-overflow on every child started
// that way); environment::set() bounds its comparison.
template <typename Pairs>
boost::process::environment child_environment(const Pairs& overrides) {
  boost::process::environment env = boost::this_process::environment();
  for (const auto& [name, value] : overrides) env.set(name, value);
  return env;
}

}  // namespace numasoak
