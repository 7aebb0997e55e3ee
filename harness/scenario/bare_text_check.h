#pragma once
// TOML 1.0 allows non-ASCII characters only inside strings and comments. toml++ 3.3 (Debian
// bookworm) reaches undefined behaviour on some of them elsewhere (`ţ` alone drives its whitespace
// table into __builtin_unreachable; found by fuzz/scenario_parser_fuzz), so draincheck rejects
// them itself before toml++ sees the text.
#include <optional>
#include <string_view>

namespace draincheck {

struct TextPosition {
    int line = 1;
    int column = 1;   // in characters (UTF-8 sequences count once), like toml++'s positions
};

// The position of the first non-ASCII character outside a string or a comment, if any.
std::optional<TextPosition> find_bare_non_ascii(std::string_view text);

}  // namespace draincheck
