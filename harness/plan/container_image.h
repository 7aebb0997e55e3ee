#pragma once
// What planning a container target asks Docker, before anything starts: is Docker there, is the
// image present locally (draincheck never pulls), and which stop signal does the image declare.
#include <string>

namespace draincheck {

struct ImageFacts {
    std::string stop_signal;   // the image's STOPSIGNAL as written ("SIGQUIT", "3"), "" when it sets none
};

// Throws PlanError naming what to do: docker not installed, its daemon not running, the image absent.
ImageFacts inspect_image(const std::string& image);

}  // namespace draincheck
