#include "faults/dependency_fault.h"

namespace draincheck {
namespace {

// What a dependency fault does to the dependency, and how it reads in the plan.
struct DependencyAction {
    void (Dependency::*act)();
    const char* verb;
};

class DependencyFault final : public Fault {
public:
    DependencyFault(std::string dependency, DependencyAction action) : dependency_(std::move(dependency)), action_(action) {}

    void apply(FaultContext& ctx) override { (ctx.dependency(dependency_).*action_.act)(); }
    std::string describe() const override { return std::string(action_.verb) + " dependency " + dependency_; }

private:
    std::string dependency_;
    DependencyAction action_;
};

}  // namespace

std::unique_ptr<Fault> make_kill_dependency_fault(const FaultSpec& spec) {
    return std::make_unique<DependencyFault>(spec.dependency, DependencyAction{&Dependency::kill, "SIGKILL"});
}
std::unique_ptr<Fault> make_stop_dependency_fault(const FaultSpec& spec) {
    return std::make_unique<DependencyFault>(spec.dependency, DependencyAction{&Dependency::freeze, "freeze (SIGSTOP)"});
}
std::unique_ptr<Fault> make_cont_dependency_fault(const FaultSpec& spec) {
    return std::make_unique<DependencyFault>(spec.dependency, DependencyAction{&Dependency::thaw, "continue (SIGCONT)"});
}
std::unique_ptr<Fault> make_restart_dependency_fault(const FaultSpec& spec) {
    return std::make_unique<DependencyFault>(spec.dependency, DependencyAction{&Dependency::restart, "restart"});
}

}  // namespace draincheck
