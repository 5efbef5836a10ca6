-- lighttpd mod_magnet: webhooks and slash commands are POSTs; answer anything else with 405 here,
-- before mod_cgi starts a process.
local r = lighty.r
if r.req_attr["request.method"] ~= "POST" then
  r.resp_header["Allow"] = "POST"
  r.resp_header["Content-Type"] = "application/json"
  r.resp_body:set({ '{"error":"methodNotAllowed","message":"only POST is accepted","status":405}\n' })
  return 405
end
return 0
