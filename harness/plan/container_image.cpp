#include "plan/container_image.h"

#include "common/command_output.h"
#include "plan/run_plan.h"

#include <nlohmann/json.hpp>

namespace draincheck {
namespace {

constexpr auto kDockerTimeout = std::chrono::seconds(20);

bool mentions(const std::string& text, const char* what) { return text.find(what) != std::string::npos; }

}  // namespace

ImageFacts inspect_image(const std::string& image) {
    if (!program_in_path("docker"))
        throw PlanError("docker is not installed, and target.image needs it: install the docker.io package (setup.sh does)");
    CommandOutput r = run_command({"docker", "image", "inspect", "--format", "{{json .Config}}", image}, kDockerTimeout);
    if (r.timed_out) throw PlanError("docker did not answer within 20 s (docker image inspect " + image + ")");
    if (!r.ok()) {
        if (mentions(r.err, "Cannot connect to the Docker daemon") || mentions(r.err, "docker daemon running") ||
            mentions(r.err, "permission denied"))
            throw PlanError("the Docker daemon is not running (or not reachable): start dockerd (setup.sh does); docker said: " +
                            r.err.substr(0, r.err.find('\n')));
        if (mentions(r.err, "No such image") || mentions(r.err, "No such object"))
            throw PlanError("image " + image + " is not present locally, and draincheck never pulls: build it, or "
                            "load it with docker load, first");
        throw PlanError("docker image inspect " + image + " failed: " + r.err.substr(0, r.err.find('\n')));
    }
    ImageFacts facts;
    auto config = nlohmann::json::parse(r.out, nullptr, false);
    if (config.is_object() && config.contains("StopSignal") && config["StopSignal"].is_string())
        facts.stop_signal = config["StopSignal"].get<std::string>();
    return facts;
}

}  // namespace draincheck
