// terminal_safe: untrusted text made inert for a terminal.
//
// Guest output (crash titles, console lines, uname -r) reaches the operator's
// terminal in status lines, run summaries and reports. A guest must not be
// able to move the cursor, clear or retitle the window, recolour it, ring the
// bell or overwrite what was printed (ESC/CSI/OSC sequences, the C1 forms of
// them, BEL, backspace, CR). So every control character becomes '?', and so
// does every byte that is not valid UTF-8 (a lone 0x9B is CSI to some
// terminals). Tab stays; newline stays only when asked.
#pragma once

#include <string>
#include <string_view>

namespace numasoak {

std::string terminal_safe(std::string_view text, bool keep_newlines = false);

}  // namespace numasoak
