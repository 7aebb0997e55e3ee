#pragma once
// Secrets given to a target (scenario `mask_env`) never appear in what draincheck prints or writes.
#include <string>
#include <vector>

namespace draincheck {

// Every occurrence of every non-empty value in `secrets` replaced by "***".
std::string mask_secrets(std::string text, const std::vector<std::string>& secrets);

}  // namespace draincheck
