// Reading patch files and GNU patch's output, without applying anything.
// The work tree needs to know which files a series touches (to save their
// pristine bytes and to refresh their mtimes), and a failed `patch` must
// become one line naming the file and hunk.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace numasoak::kernel {

// Paths (as `patch -p1` sees them) a unified or git diff creates, changes,
// deletes or renames, in first-seen order, without duplicates.
std::vector<std::string> touched_files(std::string_view patch_text);

// Condenses `patch` output into "mm/mprotect.c: hunk #2 FAILED at 310" (all
// failures, joined by "; "), "can't find file to patch: mm/x.c", "patch is
// malformed at line 12", or "previously applied"; "" when nothing matched.
std::string describe_patch_failure(std::string_view patch_output);

}  // namespace numasoak::kernel
