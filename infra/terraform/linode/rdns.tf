# Reverse DNS of every host that talks SMTP to the world: the edges
# (receiving; many senders check the PTR of an MX) and the workers
# (sending; receivers check that the PTR matches the EHLO name and resolves
# back). Linode accepts a PTR only when the name already resolves to the
# address, hence depends_on the A/AAAA records and wait_for_available.

resource "linode_rdns" "edge_ipv4" {
  count = var.edge_count

  address            = local.edge_ipv4[count.index]
  rdns               = local.edge_fqdns[count.index]
  wait_for_available = true
  depends_on         = [linode_domain_record.mail]
}

resource "linode_rdns" "edge_ipv6" {
  count = var.edge_count

  address            = local.edge_ipv6[count.index]
  rdns               = local.edge_fqdns[count.index]
  wait_for_available = true
  depends_on         = [linode_domain_record.mail]
}

resource "linode_rdns" "worker_ipv4" {
  count = var.worker_count

  address            = local.worker_ipv4[count.index]
  rdns               = local.worker_fqdns[count.index]
  wait_for_available = true
  depends_on         = [linode_domain_record.mail]
}

resource "linode_rdns" "worker_ipv6" {
  count = var.worker_count

  address            = local.worker_ipv6[count.index]
  rdns               = local.worker_fqdns[count.index]
  wait_for_available = true
  depends_on         = [linode_domain_record.mail]
}
