#include "faults/fleet_fault.h"

#include "fleet/replica_set.h"

#include <stdexcept>

namespace draincheck {
namespace {

ReplicaSet& fleet_of(FaultContext& ctx) {
    if (!ctx.fleet) throw std::logic_error("a fleet fault without [fleet]");   // the parser refuses it
    return *ctx.fleet;
}

std::string replicas(unsigned n) { return std::to_string(n) + (n == 1 ? " replica" : " replicas"); }

std::string_view pick_name(FaultSpec::Pick p) {
    switch (p) {
        case FaultSpec::Pick::oldest: return "oldest";
        case FaultSpec::Pick::newest: return "newest";
        case FaultSpec::Pick::random: return "random";
    }
    return "?";
}

class ScaleDown final : public Fault {
public:
    explicit ScaleDown(const FaultSpec& s) : s_(s) {}
    void apply(FaultContext& ctx) override { fleet_of(ctx).scale_down(s_.count, s_.pick, s_.seed); }
    std::string describe() const override {
        return "scale down by " + replicas(s_.count) + " (" + std::string(pick_name(s_.pick)) + " first)";
    }

private:
    FaultSpec s_;
};

class ScaleUp final : public Fault {
public:
    explicit ScaleUp(const FaultSpec& s) : s_(s) {}
    void apply(FaultContext& ctx) override { fleet_of(ctx).scale_up(s_.count); }
    std::string describe() const override { return "scale up by " + replicas(s_.count); }

private:
    FaultSpec s_;
};

class RollingRestart final : public Fault {
public:
    explicit RollingRestart(const FaultSpec& s) : s_(s) {}
    void apply(FaultContext& ctx) override { fleet_of(ctx).rolling_restart(s_.max_surge, s_.max_unavailable); }
    std::string describe() const override {
        return "rolling restart (max_surge " + std::to_string(s_.max_surge) + ", max_unavailable " +
               std::to_string(s_.max_unavailable) + ")";
    }

private:
    FaultSpec s_;
};

class KillReplica final : public Fault {
public:
    explicit KillReplica(const FaultSpec& s) : s_(s) {}
    void apply(FaultContext& ctx) override { fleet_of(ctx).kill_replica(s_.count, s_.pick, s_.seed); }
    std::string describe() const override {
        return "SIGKILL " + replicas(s_.count) + " (" + std::string(pick_name(s_.pick)) + " first)";
    }

private:
    FaultSpec s_;
};

}  // namespace

std::unique_ptr<Fault> make_scale_down_fault(const FaultSpec& spec) { return std::make_unique<ScaleDown>(spec); }
std::unique_ptr<Fault> make_scale_up_fault(const FaultSpec& spec) { return std::make_unique<ScaleUp>(spec); }
std::unique_ptr<Fault> make_rolling_restart_fault(const FaultSpec& spec) {
    return std::make_unique<RollingRestart>(spec);
}
std::unique_ptr<Fault> make_kill_replica_fault(const FaultSpec& spec) { return std::make_unique<KillReplica>(spec); }

}  // namespace draincheck
