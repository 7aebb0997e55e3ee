#include "scenario/bare_text_check.h"

namespace draincheck {

std::optional<TextPosition> find_bare_non_ascii(std::string_view text) {
    enum class In { bare, comment, basic, literal, multi_basic, multi_literal } in = In::bare;
    TextPosition pos;
    for (size_t i = 0; i < text.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        auto starts = [&](std::string_view s) { return text.substr(i, s.size()) == s; };
        switch (in) {
        case In::bare:
            if (c >= 0x80) return pos;
            if (c == '#') in = In::comment;
            else if (starts("\"\"\"")) in = In::multi_basic, i += 2, pos.column += 2;
            else if (starts("'''")) in = In::multi_literal, i += 2, pos.column += 2;
            else if (c == '"') in = In::basic;
            else if (c == '\'') in = In::literal;
            break;
        case In::comment:
            if (c == '\n') in = In::bare;
            break;
        case In::basic:
            if (c == '\\' && i + 1 < text.size() && text[i + 1] != '\n') ++i, ++pos.column;
            else if (c == '"' || c == '\n') in = In::bare;   // a newline ends a broken string: toml++ reports it
            break;
        case In::literal:
            if (c == '\'' || c == '\n') in = In::bare;
            break;
        case In::multi_basic:
            if (c == '\\' && i + 1 < text.size()) ++i, ++pos.column;
            else if (starts("\"\"\"")) in = In::bare, i += 2, pos.column += 2;
            break;
        case In::multi_literal:
            if (starts("'''")) in = In::bare, i += 2, pos.column += 2;
            break;
        }
        if (text[i] == '\n') {
            ++pos.line;
            pos.column = 1;
        } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
            ++pos.column;   // continuation bytes of a UTF-8 sequence do not advance the column
        }
    }
    return std::nullopt;
}

}  // namespace draincheck
