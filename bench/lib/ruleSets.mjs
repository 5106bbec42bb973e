// Rule sets the benchmarks share (bench/rules.mjs, bench/rules-hooks.mjs).

/**
 * n enabled rules of the usual shapes (cycling through ten), as rule objects (validate them with
 * validateRules): host ==, host + path glob, path glob + method, host glob, method + path
 * startsWith, host in [...] or port, query.<key>, header.<name>, path =~ /regex/, not scheme + host.
 * None matches a request to 127.0.0.1 or to the hosts of bench/rules.mjs.
 */
export function typicalRuleObjects(n) {
  const shapes = [
    (k) => ['skip', `host == "telemetry${k}.example.com"`],
    (k) => ['details', `host == "svc${k}.internal" and path ~ "/api/**"`],
    (k) => ['mark', `path ~ "/v${k + 10}/*/orders" and method == "POST"`],
    (k) => ['skip', `host ~ "*.tracking${k}.net"`],
    (k) => ['break', `method == "DELETE" and path startsWith "/admin${k}/"`],
    (k) => ['trace', `host in ["a${k}.example.com", "b${k}.example.com"] or port == ${9000 + k}`],
    (k) => ['details', `query.debug${k} == "1"`],
    (k) => ['mark', `header.x-tenant${k}`],
    (k) => ['skip', `path =~ /^\\/internal${k}\\/v\\d+\\//`],
    (k) => ['skip', `not (scheme == "https") and host == "legacy${k}.example.com"`],
  ];
  return Array.from({ length: n }, (_, k) => {
    const [action, condition] = shapes[k % shapes.length](k);
    return { id: `r${k}`, action, condition, enabled: true };
  });
}
