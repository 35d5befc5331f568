// An initramfs with files added on top of a built image, for what belongs to
// one kernel rather than to the image: the outside amplifier's module
// (numasoak_widen.ko), built against that kernel. The kernel unpacks
// concatenated gzip'd cpio archives in order, so the result is the image's
// bytes followed by a small archive of the files; cached by content under
// cache_dir()/images/<hash>/ like the image itself.
#pragma once

#include <vector>

#include "image/image.h"

namespace numasoak::image {

/// `base` with `files` added (later archives win for the same path). Throws a
/// one-line Error when a file is missing or the cache cannot be written.
ImageArtifact with_files(const ImageArtifact& base, const std::vector<ExtraFile>& files);

}  // namespace numasoak::image
