#include "faults/platform_fault.h"

#include "platforms/platform.h"

#include <stdexcept>

namespace draincheck {
namespace {

class PlatformOperation final : public Fault {
public:
    explicit PlatformOperation(const FaultSpec& s) : s_(s) {}
    void apply(FaultContext& ctx) override {
        if (!ctx.platform) throw std::logic_error("a platform fault without [platform]");   // the parser refuses it
        ctx.platform->operate(s_);
    }
    std::string describe() const override {
        return "the platform's " + s_.operation + (s_.operation == "scale" ? " to " + std::to_string(s_.count) : "");
    }

private:
    FaultSpec s_;
};

}  // namespace

std::unique_ptr<Fault> make_platform_fault(const FaultSpec& spec) { return std::make_unique<PlatformOperation>(spec); }

}  // namespace draincheck
