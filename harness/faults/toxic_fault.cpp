#include "faults/toxic_fault.h"

#include "common/duration.h"

namespace draincheck {
namespace {

class ToxicFault final : public Fault {
public:
    explicit ToxicFault(const FaultSpec& spec) : dependency_(spec.dependency), toxic_(*spec.toxic), until_(spec.until) {}

    void apply(FaultContext& ctx) override {
        Dependency& d = ctx.dependency(dependency_);
        uint64_t id = d.add_toxic(toxic_);
        if (until_) ctx.at_time(*until_, [&d, id] { d.remove_toxic(id); });
    }

    std::string describe() const override {
        return "toxic on dependency " + dependency_ + (until_ ? " until " + format_duration(*until_) : "");
    }

private:
    std::string dependency_;
    ToxicSpec toxic_;
    std::optional<Nanos> until_;
};

}  // namespace

std::unique_ptr<Fault> make_toxic_fault(const FaultSpec& spec) { return std::make_unique<ToxicFault>(spec); }

}  // namespace draincheck
