# A Rack app for puma with one slow route: `puma -b tcp://127.0.0.1:PORT config.ru`.
run lambda { |env|
  sleep 0.8 if env["PATH_INFO"] == "/slow"
  [200, { "content-type" => "text/plain" }, ["ok\n"]]
}
