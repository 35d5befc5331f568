#include "vm/backends.h"

#include "vm/libvirt/libvirt_pool.h"
#include "vm/qemu/qemu_backend.h"

namespace numasoak::vm {

std::unique_ptr<Backend> make_backend(boost::asio::io_context& io, const BackendSpec& spec) {
  if (spec.kind == BackendSpec::Kind::kQemu) return std::make_unique<QemuBackend>(io);
  LibvirtPoolOptions opt;
  opt.host.accel = spec.accel;
  auto pool = std::make_unique<LibvirtPool>(io, spec.hosts, opt);
  pool->connect();
  return pool;
}

}  // namespace numasoak::vm
