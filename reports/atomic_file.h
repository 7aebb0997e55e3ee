#pragma once
// Reports are written whole or not at all: a temporary file, then a rename.
#include <string>

namespace draincheck {

// Throws std::runtime_error naming the path and the reason.
void write_text_file(const std::string& path, const std::string& text);

}  // namespace draincheck
