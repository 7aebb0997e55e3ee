#include "service_routes.h"

#include "redis_client.h"
#include "session_store.h"

#include <algorithm>
#include <cctype>

namespace sample {

namespace {

constexpr const char* kSessionPrefix = "/session/";

Answer redis_unavailable() { return {503, "redis unavailable\n", {}}; }

Answer method_not_allowed(const char* allow) { return {405, "method not allowed\n", {{"Allow", allow}}}; }

// Ids are what new_session_id() makes; anything else cannot be a session (and stays out of Redis keys).
bool plausible_session_id(std::string_view id) {
    return !id.empty() && id.size() <= 64 &&
           std::all_of(id.begin(), id.end(), [](unsigned char c) { return std::isalnum(c) != 0; });
}

}  // namespace

bool ServiceRoutes::handle(std::string_view method, std::string_view target, Respond respond) {
    std::string_view path = target.substr(0, target.find('?'));
    if (path == "/count" && redis_) {
        if (method != "GET") respond(method_not_allowed("GET"));
        else count(std::move(respond));
        return true;
    }
    if (path == "/session") {
        if (method != "POST") respond(method_not_allowed("POST"));
        else create_session(std::move(respond));
        return true;
    }
    if (path.starts_with(kSessionPrefix)) {
        if (method != "GET") respond(method_not_allowed("GET"));
        else find_session(std::string(path.substr(std::string_view(kSessionPrefix).size())), std::move(respond));
        return true;
    }
    return false;
}

void ServiceRoutes::health(Respond respond) {
    if (!redis_) return respond({200, "ok\n", {}});
    redis_->command({"PING"}, [respond = std::move(respond)](RedisResult r) {
        bool pong = r.reply && r.reply->type == RedisReply::Type::simple_string && r.reply->text == "PONG";
        respond(pong ? Answer{200, "ok\n", {}} : redis_unavailable());
    });
}

void ServiceRoutes::count(Respond respond) {
    redis_->command({"INCR", "draincheck:count"}, [respond = std::move(respond)](RedisResult r) {
        if (!r.reply || r.reply->type != RedisReply::Type::integer) return respond(redis_unavailable());
        respond({200, std::to_string(r.reply->integer) + "\n", {}});
    });
}

void ServiceRoutes::create_session(Respond respond) {
    std::string id = new_session_id();
    sessions_.add(id, [id, respond = std::move(respond)](bool stored) {
        if (!stored) return respond(redis_unavailable());
        respond({201, id + "\n", {{"Set-Cookie", "sid=" + id + "; Path=/; HttpOnly"}}});
    });
}

void ServiceRoutes::find_session(std::string id, Respond respond) {
    if (!plausible_session_id(id)) return respond({404, "no such session\n", {}});
    sessions_.find(id, [respond = std::move(respond)](SessionStore::Lookup found) {
        switch (found) {
        case SessionStore::Lookup::found: return respond({200, "session ok\n", {}});
        case SessionStore::Lookup::missing: return respond({404, "no such session\n", {}});
        case SessionStore::Lookup::unavailable: return respond(redis_unavailable());
        }
    });
}

}  // namespace sample
