# The DNS zone of the mail domain: address records of every host (always),
# and the mail policy records, from dns_records (`bucketmail dns --format
# json`) or, when that is empty, built here.

locals {
  edge_ipv4   = linode_instance.edge[*].ip_address
  edge_ipv6   = [for a in linode_instance.edge[*].ipv6 : split("/", a)[0]]
  worker_ipv4 = linode_instance.worker[*].ip_address
  worker_ipv6 = [for a in linode_instance.worker[*].ipv6 : split("/", a)[0]]

  # Every record has the same attributes (null where unused), and a key
  # known at plan time (for_each cannot use addresses not yet assigned).
  address_records = concat(
    [for i, ip in local.edge_ipv4 : { key = "A mx${i + 1}", name = "mx${i + 1}", type = "A", value = ip, priority = null, ttl = null }],
    [for i, ip in local.edge_ipv6 : { key = "AAAA mx${i + 1}", name = "mx${i + 1}", type = "AAAA", value = ip, priority = null, ttl = null }],
    [for i, ip in local.worker_ipv4 : { key = "A out${i + 1}", name = "out${i + 1}", type = "A", value = ip, priority = null, ttl = null }],
    [for i, ip in local.worker_ipv6 : { key = "AAAA out${i + 1}", name = "out${i + 1}", type = "AAAA", value = ip, priority = null, ttl = null }],
    [
      { key = "A gateway", name = var.gateway_hostname, type = "A", value = linode_nodebalancer.mail.ipv4, priority = null, ttl = null },
      { key = "AAAA gateway", name = var.gateway_hostname, type = "AAAA", value = linode_nodebalancer.mail.ipv6, priority = null, ttl = null },
    ],
  )

  # SPF: the MX hosts and every worker's addresses, as literals, so a check
  # costs no further lookups (RFC 7208 section 4.6.4 allows 10); then the
  # mechanisms of spf_mechanisms, those of an SPF record in dns_records
  # other than the ones written here, and the relay's when the workers send
  # through one (else relayed mail fails SPF).
  relay_host = trimsuffix(trimprefix(regex("^(\\[[^\\]]*\\]|[^:]*)", lookup(var.extra_env, "BUCKETMAIL_RELAY_HOST", ""))[0], "["), "]")
  relay_kind = (
    local.relay_host == "" ? "" :
    strcontains(local.relay_host, ":") ? "ip6" :
    length(regexall("^[0-9.]+$", local.relay_host)) > 0 ? "ip4" : "a"
  )
  relay_spf = var.relay_spf != "" ? var.relay_spf : (local.relay_kind == "" ? "" : "${local.relay_kind}:${local.relay_host}")
  given_spf_mechanisms = flatten([
    for r in var.dns_records : [
      for m in split(" ", trim(r.value, "\"")) : m
      if m != "" && !contains(["v=spf1", "mx"], m) && !startswith(m, "ip4:") && !startswith(m, "ip6:") && length(regexall("^[-+~?]?all$", m)) == 0
    ] if upper(r.type) == "TXT" && startswith(trim(r.value, "\""), "v=spf1")
  ])
  spf = join(" ", distinct(compact(concat(
    ["v=spf1", "mx"],
    [for ip in local.worker_ipv4 : "ip4:${ip}"],
    [for ip in local.worker_ipv6 : "ip6:${ip}"],
    var.spf_mechanisms,
    local.given_spf_mechanisms,
    [local.relay_spf],
    ["-all"],
  ))))

  # A TXT value as `bucketmail dkim list` prints it is one or more quoted
  # strings of at most 255 bytes (RFC 1035 section 3.3.14; an RSA key takes
  # two). The Linode API takes the value as one unquoted string and cuts
  # it into strings itself, so the strings are joined here, as a verifier
  # joins them (RFC 6376 section 3.6.2.2).
  dkim_values = {
    for sel, txt in var.dkim_records : sel => strcontains(txt, "\"") ? join("", flatten(regexall("\"([^\"]*)\"", txt))) : txt
  }

  # MX and the client configuration CNAMEs follow this module's topology
  # whichever way the other records come: every edge is an MX of the same
  # preference, the CNAMEs name the NodeBalancer's service name.
  mx_records = [for h in local.edge_fqdns : { key = "MX ${h}", name = "", type = "MX", value = h, priority = 10, ttl = null }]
  cname_records = [
    # MTA-STS (RFC 8461): the policy itself is served over HTTPS at
    # mta-sts.<domain>/.well-known/mta-sts.txt.
    { key = "CNAME mta-sts", name = "mta-sts", type = "CNAME", value = local.gateway_fqdn, priority = null, ttl = null },
    # Client configuration: Thunderbird autoconfig and Outlook
    # autodiscover (the SRV records are below).
    { key = "CNAME autoconfig", name = "autoconfig", type = "CNAME", value = local.gateway_fqdn, priority = null, ttl = null },
    { key = "CNAME autodiscover", name = "autodiscover", type = "CNAME", value = local.gateway_fqdn, priority = null, ttl = null },
  ]

  # The MTA-STS TXT record announces a policy; without an HTTPS server for
  # it (mta_sts_id = "") it is left out.
  mta_sts_records = var.mta_sts_id == "" ? [] : [
    { key = "TXT mta-sts", name = "_mta-sts", type = "TXT", value = "v=STSv1; id=${var.mta_sts_id}", priority = null, ttl = null },
  ]

  builtin_policy_records = concat(
    local.spf_record,
    [
      { key = "TXT dmarc", name = "_dmarc", type = "TXT", value = "v=DMARC1; p=${var.dmarc_policy}; rua=mailto:${local.reports}; adkim=r; aspf=r", priority = null, ttl = null },
      { key = "TXT tls-rpt", name = "_smtp._tls", type = "TXT", value = "v=TLSRPTv1; rua=mailto:${local.reports}", priority = null, ttl = null },
    ],
    local.mta_sts_records,
    [for sel, txt in var.dkim_records : { key = "TXT dkim ${sel}", name = "${sel}._domainkey", type = "TXT", value = local.dkim_values[sel], priority = null, ttl = null }],
  )

  # Records of `bucketmail dns --format json` have fully qualified names
  # ("@" or "" also mean the apex) and carry the MX preference in the value
  # ("10 mx1.example.org"): make names relative and split the preference
  # off. TXT values go to the API without literal quotes (the Linode API
  # quotes the value itself). A, AAAA, SRV, MX and CNAME records follow
  # this module's topology, and so does SPF (it lists the workers' sending
  # addresses): the given ones are left out and the module's own are
  # written (SPF keeps the given mechanisms, see above).
  given_policy_records = [
    for r in var.dns_records : {
      key      = "${upper(r.type)} ${r.name} ${r.value}"
      name     = contains(["@", var.domain, "${var.domain}."], r.name) ? "" : trimsuffix(trimsuffix(trimsuffix(r.name, "."), var.domain), ".")
      type     = upper(r.type)
      value    = upper(r.type) == "TXT" ? (strcontains(r.value, "\"") ? join("", flatten(regexall("\"([^\"]*)\"", r.value))) : r.value) : trimsuffix(reverse(split(" ", r.value))[0], ".")
      priority = r.priority != null ? r.priority : (upper(r.type) == "MX" && length(split(" ", r.value)) == 2 ? tonumber(split(" ", r.value)[0]) : null)
      ttl      = r.ttl
    } if !contains(["A", "AAAA", "SRV", "MX", "CNAME"], upper(r.type)) && !(upper(r.type) == "TXT" && startswith(trim(r.value, "\""), "v=spf1"))
  ]
  spf_record = [{ key = "TXT spf", name = "", type = "TXT", value = local.spf, priority = null, ttl = null }]

  policy_records = concat(
    length(var.dns_records) > 0 ? concat(local.given_policy_records, local.spf_record) : local.builtin_policy_records,
    local.mx_records,
    local.cname_records,
  )

  all_records = { for r in concat(local.address_records, local.policy_records) : r.key => r }

  # RFC 6186 and RFC 8314 section 5.1 SRV records for mail clients, and
  # _sieve._tcp for ManageSieve clients (RFC 5804 section 1.8).
  srv_records = {
    imaps       = { port = 993, target = local.gateway_fqdn }
    imap        = { port = 143, target = local.gateway_fqdn }
    pop3s       = { port = 995, target = local.gateway_fqdn }
    submissions = { port = 465, target = local.submission_fqdn }
    submission  = { port = 587, target = local.submission_fqdn }
    sieve       = { port = 4190, target = local.gateway_fqdn }
  }
}

resource "linode_domain" "mail" {
  domain    = var.domain
  type      = "master"
  soa_email = var.soa_email
  ttl_sec   = var.dns_ttl
}

resource "linode_domain_record" "mail" {
  for_each = local.all_records

  domain_id   = linode_domain.mail.id
  name        = each.value.name
  record_type = each.value.type
  target      = each.value.value
  priority    = each.value.type == "MX" ? coalesce(each.value.priority, 10) : null
  ttl_sec     = coalesce(each.value.ttl, var.dns_ttl)
}

# SRV records: the API makes their name from service and protocol.
resource "linode_domain_record" "srv" {
  for_each = local.srv_records

  domain_id   = linode_domain.mail.id
  record_type = "SRV"
  service     = each.key
  protocol    = "tcp"
  target      = each.value.target
  port        = each.value.port
  priority    = 0
  weight      = 1
  ttl_sec     = var.dns_ttl
}
