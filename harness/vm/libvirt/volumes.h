// VolumeStore: kernels and initramfs images on a libvirt host, through
// libvirt's storage API (so remote hosts need no scp, no shared disk).
//
// A dir pool "numasoak" (/var/lib/libvirt/numasoak, created and started if
// absent) holds one volume per artifact, named by content: "<sha256>.<role>".
// A volume is uploaded once (virStorageVolUpload on a non-blocking stream
// driven by the event loop) into a temporary volume
// "....part-<machine>-<pid>-<start>-<n>" (n: per upload of this process) and
// then cloned to its final name, so a half-finished upload is never mistaken
// for a complete one; later runs reuse it. Concurrent
// requests for the same volume share one upload. Internal to vm/libvirt.
#pragma once

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

typedef struct _virConnect* virConnectPtr;
typedef struct _virStoragePool* virStoragePoolPtr;

namespace numasoak::vm::libvirt {

/// The host's "numasoak" storage pool: content-named volumes, uploaded once.
class VolumeStore {
 public:
  VolumeStore(boost::asio::io_context& io, std::string uri);
  ~VolumeStore();
  VolumeStore(const VolumeStore&) = delete;
  VolumeStore& operator=(const VolumeStore&) = delete;

  // Finds or creates (define, build, start) the pool and refreshes it;
  // removes temporary volumes of dead uploads from this machine. Blocking;
  // throws a one-line Error (storage permissions, ...).
  void open(virConnectPtr conn, const std::string& pool_name, const std::filesystem::path& dir);
  // Forgets the connection; uploads in flight fail with `why`.
  void close(const std::string& why);

  // "<sha256 of the file>.<role>" (hashes are cached by path, size, mtime).
  std::string volume_name(const std::filesystem::path& file, const std::string& role);
  // The volume's path on the host (the pool's directory + name).
  std::string path_of(const std::string& volume) const;
  const std::string& pool_dir() const { return dir_; }

  // Whether `volume` is on the host already with `file`'s size (blocking
  // lookup; remembered once seen).
  bool present(const std::string& volume, const std::filesystem::path& file);
  // Makes sure `volume` holds `file`; done("") when it does, done(error)
  // otherwise. Always called from the io_context, never inline.
  void ensure(const std::filesystem::path& file, const std::string& volume, std::function<void(const std::string&)> done);

  // Counters for tests and the report.
  int uploads_done() const { return uploads_done_; }
  int reused() const { return reused_; }
  void count_reuse() { ++reused_; }

 private:
  struct Upload;
  void finish_upload(const std::string& volume, const std::string& error);

  boost::asio::io_context& io_;
  std::string uri_;
  virConnectPtr conn_ = nullptr;
  virStoragePoolPtr pool_ = nullptr;
  std::string dir_;
  std::map<std::string, std::vector<std::function<void(const std::string&)>>> waiting_;
  std::map<std::string, std::shared_ptr<Upload>> uploads_;
  /// What a file's cached hash is keyed by: path, size, mtime.
  struct HashKey {
    std::string path;
    std::uintmax_t size;
    long long mtime;
    auto operator<=>(const HashKey&) const = default;
  };
  std::map<HashKey, std::string> hashes_;
  std::map<std::string, std::uintmax_t> known_;  // volumes seen complete on this connection
  int uploads_done_ = 0, reused_ = 0;
};

}  // namespace numasoak::vm::libvirt
