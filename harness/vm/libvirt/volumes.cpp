#include "vm/libvirt/volumes.h"

#include <atomic>
#include <boost/asio/post.hpp>
#include <fmt/format.h>
#include <fstream>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <regex>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "common/hash.h"
#include "vm/libvirt/domain_xml.h"
#include "vm/libvirt/errors.h"
#include "vm/libvirt/owner.h"

namespace numasoak::vm::libvirt {

namespace asio = boost::asio;

namespace {

constexpr size_t kChunk = 256 * 1024;  // libvirt's largest stream packet
constexpr int kChunksPerTurn = 8;      // then back to the loop

std::string volume_xml(const std::string& name, std::uintmax_t bytes) {
  return fmt::format(
      "<volume><name>{}</name><capacity unit='bytes'>{}</capacity><allocation unit='bytes'>0</allocation>"
      "<target><format type='raw'/><permissions><mode>0644</mode></permissions></target></volume>",
      xml_escape(name), bytes);
}

std::string pool_target_path(virStoragePoolPtr pool) {
  char* xml = virStoragePoolGetXMLDesc(pool, 0);
  if (!xml) return "";
  const std::string s(xml);
  free(xml);
  static const std::regex kPath(R"(<target>\s*<path>([^<]*)</path>)");
  std::smatch m;
  return std::regex_search(s, m, kPath) ? xml_unescape(m[1].str()) : "";
}

}  // namespace

/// One file upload in flight: the stream and the file it reads.
struct VolumeStore::Upload {
  VolumeStore* store = nullptr;
  std::string volume, part_name;
  std::ifstream in;
  std::uintmax_t size = 0;
  virStorageVolPtr part = nullptr;
  virStreamPtr stream = nullptr;
  std::vector<char> buf = std::vector<char>(kChunk);
  size_t off = 0, len = 0;
  bool done = false;
  bool stream_ended = false;

  ~Upload() { release(); }

  // Everything, for the destructor and close(): never from inside the
  // stream's own callback (the stream is freed here).
  void release() {
    if (stream) {
      if (!stream_ended) {
        virStreamEventRemoveCallback(stream);
        virStreamAbort(stream);
      }
      virStreamFree(stream);
      stream = nullptr;
      virResetLastError();
    }
    drop_part();
  }

  void drop_part() {
    if (part) {
      virStorageVolDelete(part, 0);
      virStorageVolFree(part);
      part = nullptr;
      virResetLastError();
    }
  }

  // Safe inside the stream callback: the stream itself is freed later.
  bool end_stream(bool finish) {
    if (!stream || stream_ended) return false;
    stream_ended = true;
    virStreamEventRemoveCallback(stream);
    if (finish) return virStreamFinish(stream) == 0;
    virStreamAbort(stream);
    virResetLastError();
    return false;
  }

  static void on_writable(virStreamPtr, int, void* opaque) {
    auto up = static_cast<std::weak_ptr<Upload>*>(opaque)->lock();
    if (up && !up->done) up->pump();
  }

  void pump() {
    for (int i = 0; i < kChunksPerTurn; ++i) {
      if (off == len) {
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        len = static_cast<size_t>(in.gcount());
        off = 0;
        if (len == 0) {
          complete();
          return;
        }
      }
      const int r = virStreamSend(stream, buf.data() + off, len - off);
      if (r == -2) return;  // would block: the next WRITABLE event resumes
      if (r < 0) {
        fail("upload failed: " + last_error().message);
        return;
      }
      off += static_cast<size_t>(r);
    }
  }

  void complete() {
    if (!end_stream(true)) {
      fail("upload did not finish: " + last_error().message);
      return;
    }
    // The final name appears only now, complete: a clone of the finished part.
    virStorageVolPtr final_vol = virStorageVolCreateXMLFrom(store->pool_, volume_xml(volume, size).c_str(), part, 0);
    if (!final_vol) {
      const auto e = last_error();
      final_vol = virStorageVolLookupByName(store->pool_, volume.c_str());  // another numasoak made it meanwhile
      if (!final_vol) {
        fail("cannot create the volume from its upload: " + e.message);
        return;
      }
    }
    virStorageVolFree(final_vol);
    drop_part();
    done = true;
    ++store->uploads_done_;
    store->known_[volume] = size;
    store->finish_upload(volume, "");
  }

  void fail(const std::string& why) {
    end_stream(false);
    drop_part();
    done = true;
    store->finish_upload(volume, why);
  }
};

VolumeStore::VolumeStore(asio::io_context& io, std::string uri) : io_(io), uri_(std::move(uri)) {}

VolumeStore::~VolumeStore() { close("the connection was closed"); }

void VolumeStore::open(virConnectPtr conn, const std::string& pool_name, const std::filesystem::path& dir) {
  close("the connection was reopened");
  conn_ = conn;
  virStoragePoolPtr pool = virStoragePoolLookupByName(conn, pool_name.c_str());
  if (!pool) {
    virResetLastError();
    const std::string xml = fmt::format(
        "<pool type='dir'><name>{}</name><target><path>{}</path><permissions><mode>0755</mode></permissions>"
        "</target></pool>",
        xml_escape(pool_name), xml_escape(dir.string()));
    pool = virStoragePoolDefineXML(conn, xml.c_str(), 0);
    if (!pool) {
      const auto e = last_error();
      pool = virStoragePoolLookupByName(conn, pool_name.c_str());  // defined by someone else just now
      if (!pool) throw storage_error(uri_, fmt::format("cannot define the storage pool '{}' at {}", pool_name, dir.string()), e);
    } else {
      if (virStoragePoolBuild(pool, 0) < 0) {
        const auto e = last_error();
        virStoragePoolUndefine(pool);
        virStoragePoolFree(pool);
        virResetLastError();
        throw storage_error(uri_, fmt::format("cannot create the directory {} of storage pool '{}'", dir.string(), pool_name), e);
      }
      virStoragePoolSetAutostart(pool, 1);
      virResetLastError();
    }
  }
  if (virStoragePoolIsActive(pool) == 0 && virStoragePoolCreate(pool, VIR_STORAGE_POOL_CREATE_WITH_BUILD) < 0) {
    const auto e = last_error();
    virStoragePoolFree(pool);
    throw storage_error(uri_, fmt::format("cannot start the storage pool '{}'", pool_name), e);
  }
  if (virStoragePoolRefresh(pool, 0) < 0) {
    const auto e = last_error();
    virStoragePoolFree(pool);
    throw storage_error(uri_, fmt::format("cannot read the storage pool '{}'", pool_name), e);
  }
  pool_ = pool;
  dir_ = pool_target_path(pool);
  if (dir_.empty()) dir_ = dir.string();

  // Temporary volumes of uploads from this machine whose process is gone.
  virStorageVolPtr* vols = nullptr;
  const int n = virStoragePoolListAllVolumes(pool_, &vols, 0);
  static const std::regex kPart(R"(\.part-([0-9a-f]+)-([0-9]+)-([0-9]+)(?:-[0-9]+)?$)");
  for (int i = 0; i < n; ++i) {
    const char* name = virStorageVolGetName(vols[i]);
    std::cmatch m;
    if (name && std::regex_search(name, m, kPart) && m[1].str() == machine_tag() &&
        !process_alive(std::stol(m[2].str()), m[3].str())) {
      spdlog::debug("libvirt host {}: removing the unfinished upload {}", uri_, name);
      virStorageVolDelete(vols[i], 0);
    }
    virStorageVolFree(vols[i]);
  }
  free(vols);
  virResetLastError();
}

void VolumeStore::close(const std::string& why) {
  auto uploads = std::move(uploads_);
  uploads_.clear();
  for (auto& [name, up] : uploads) {
    up->done = true;
    up->release();
  }
  for (auto& [name, waiters] : waiting_) {
    for (auto& w : waiters) asio::post(io_, [w, why] { w(why); });
  }
  waiting_.clear();
  if (pool_) {
    virStoragePoolFree(pool_);
    pool_ = nullptr;
  }
  conn_ = nullptr;
  known_.clear();
}

std::string VolumeStore::volume_name(const std::filesystem::path& file, const std::string& role) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  const auto mtime = std::filesystem::last_write_time(file, ec);
  HashKey key{std::filesystem::absolute(file).string(), size,
              static_cast<long long>(mtime.time_since_epoch().count())};
  auto it = hashes_.find(key);
  if (it == hashes_.end()) it = hashes_.emplace(key, sha256_file(file)).first;
  return it->second + "." + role;
}

std::string VolumeStore::path_of(const std::string& volume) const { return dir_ + "/" + volume; }

bool VolumeStore::present(const std::string& volume, const std::filesystem::path& file) {
  if (!pool_ || uploads_.count(volume)) return false;
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  if (ec) return false;
  if (auto it = known_.find(volume); it != known_.end() && it->second == size) return true;
  virStorageVolPtr vol = virStorageVolLookupByName(pool_, volume.c_str());
  if (!vol) {
    virResetLastError();
    return false;
  }
  virStorageVolInfo info{};
  const bool ok = virStorageVolGetInfo(vol, &info) == 0 && info.capacity == size;
  virStorageVolFree(vol);
  virResetLastError();
  if (ok) known_[volume] = size;
  return ok;
}

void VolumeStore::ensure(const std::filesystem::path& file, const std::string& volume,
                         std::function<void(const std::string&)> done) {
  auto fail_later = [this, done](std::string why) { asio::post(io_, [done, why] { done(why); }); };
  if (!pool_) return fail_later("not connected");
  if (uploads_.count(volume)) {
    waiting_[volume].push_back(std::move(done));
    return;
  }
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  if (ec) return fail_later(fmt::format("cannot read {}: {}", file.string(), ec.message()));

  if (virStorageVolPtr vol = virStorageVolLookupByName(pool_, volume.c_str())) {
    virStorageVolInfo info{};
    const bool ok = virStorageVolGetInfo(vol, &info) == 0 && info.capacity == size;
    if (!ok) virStorageVolDelete(vol, 0);  // not what its name says: upload again
    virStorageVolFree(vol);
    virResetLastError();
    if (ok) {
      ++reused_;
      known_[volume] = size;
      asio::post(io_, [done] { done(""); });
      return;
    }
  }
  virResetLastError();

  auto up = std::make_shared<Upload>();
  up->store = this;
  up->volume = volume;
  up->size = size;
  // Unique per upload, also between two connections of this process to the
  // same daemon (two URIs for one host): the last number tells them apart.
  static std::atomic<unsigned> uploads_started{0};
  up->part_name = fmt::format("{}.part-{}-{}-{}-{}", volume, machine_tag(), ::getpid(), process_start_time(::getpid()),
                              ++uploads_started);
  up->in.open(file, std::ios::binary);
  if (!up->in) return fail_later(fmt::format("cannot read {}", file.string()));
  up->part = virStorageVolCreateXML(pool_, volume_xml(up->part_name, size).c_str(), 0);
  if (!up->part) {
    return fail_later(storage_error(uri_, fmt::format("cannot create volume {} in {}", up->part_name, dir_), last_error()).what());
  }
  up->stream = virStreamNew(conn_, VIR_STREAM_NONBLOCK);
  if (!up->stream || virStorageVolUpload(up->part, up->stream, 0, size, 0) < 0) {
    const auto e = last_error();
    up->release();
    return fail_later(storage_error(uri_, fmt::format("cannot upload {} to {}", file.string(), dir_), e).what());
  }
  auto* opaque = new std::weak_ptr<Upload>(up);
  if (virStreamEventAddCallback(up->stream, VIR_STREAM_EVENT_WRITABLE, &Upload::on_writable, opaque,
                                [](void* p) { delete static_cast<std::weak_ptr<Upload>*>(p); }) < 0) {
    delete opaque;
    const auto e = last_error();
    up->release();
    return fail_later("cannot watch the upload stream: " + e.message);
  }
  spdlog::debug("libvirt host {}: uploading {} ({} bytes) as {}", uri_, file.string(), size, volume);
  uploads_[volume] = up;
  waiting_[volume].push_back(std::move(done));
}

void VolumeStore::finish_upload(const std::string& volume, const std::string& error) {
  auto waiters = std::move(waiting_[volume]);
  waiting_.erase(volume);
  auto it = uploads_.find(volume);
  if (it != uploads_.end()) {
    // Destroyed later, not inside its own stream callback.
    asio::post(io_, [up = it->second] {});
    uploads_.erase(it);
  }
  for (auto& w : waiters) asio::post(io_, [w, error] { w(error); });
}

}  // namespace numasoak::vm::libvirt
