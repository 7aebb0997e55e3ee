#pragma once
// The routes backed by Redis and the session store:
//   GET  /count          INCR draincheck:count -> 200 with the new value      (only with Redis)
//   GET  /healthz        PING -> 200, or 503 "redis unavailable"              (only with Redis)
//   POST /session        a new session -> 201, the id in the body and Set-Cookie: sid=<id>
//   GET  /session/<id>   200 if the session exists, 404 if not
// Redis trouble (down, timeout, error reply) is answered with 503 as soon as the client gives up.
#include "http_server.h"

namespace sample {

class RedisClient;
class SessionStore;

class ServiceRoutes : public Routes {
public:
    // `redis` may be null (no Redis configured); neither is owned.
    ServiceRoutes(RedisClient* redis, SessionStore& sessions) : redis_(redis), sessions_(sessions) {}
    bool handle(std::string_view method, std::string_view target, Respond respond) override;
    void health(Respond respond) override;

private:
    void count(Respond respond);
    void create_session(Respond respond);
    void find_session(std::string id, Respond respond);

    RedisClient* redis_;
    SessionStore& sessions_;
};

}  // namespace sample
