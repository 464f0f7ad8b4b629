# Cloud Firewalls. Inbound is closed unless a rule opens it; outbound is
# open (workers deliver to port 25 of other hosts, every host reaches Object
# Storage).

locals {
  # The provider rejects an empty address list in a rule ("must contain at
  # least 1 elements"): a family without admin CIDRs is null, not [].
  admin_ipv4_list = [for c in var.admin_cidrs : c if !strcontains(c, ":")]
  admin_ipv6_list = [for c in var.admin_cidrs : c if strcontains(c, ":")]
  admin_ipv4      = length(local.admin_ipv4_list) > 0 ? local.admin_ipv4_list : null
  admin_ipv6      = length(local.admin_ipv6_list) > 0 ? local.admin_ipv6_list : null

  # NodeBalancers reach their backends from this private range.
  nodebalancer_cidr = "192.168.255.0/24"
  private_clients = [
    for ip in concat(
      linode_instance.edge[*].private_ip_address,
      linode_instance.worker[*].private_ip_address,
      linode_instance.gateway[*].private_ip_address,
    ) : "${ip}/32"
  ]
}

resource "linode_firewall" "edge" {
  label           = "${var.label_prefix}-edge"
  inbound_policy  = "DROP"
  outbound_policy = "ACCEPT"
  linodes         = linode_instance.edge[*].id

  inbound {
    label    = "smtp-submission"
    action   = "ACCEPT"
    protocol = "TCP"
    ports    = "25,587,465"
    ipv4     = ["0.0.0.0/0"]
    ipv6     = ["::/0"]
  }

  dynamic "inbound" {
    for_each = length(var.admin_cidrs) > 0 ? [1] : []
    content {
      label    = "ssh"
      action   = "ACCEPT"
      protocol = "TCP"
      ports    = "22"
      ipv4     = local.admin_ipv4
      ipv6     = local.admin_ipv6
    }
  }
}

# Workers: no public port at all.
resource "linode_firewall" "worker" {
  label           = "${var.label_prefix}-worker"
  inbound_policy  = "DROP"
  outbound_policy = "ACCEPT"
  linodes         = linode_instance.worker[*].id

  dynamic "inbound" {
    for_each = length(var.admin_cidrs) > 0 ? [1] : []
    content {
      label    = "ssh"
      action   = "ACCEPT"
      protocol = "TCP"
      ports    = "22"
      ipv4     = local.admin_ipv4
      ipv6     = local.admin_ipv6
    }
  }
}

# Gateways: IMAP, POP3 and ManageSieve only from the NodeBalancer.
resource "linode_firewall" "gateway" {
  label           = "${var.label_prefix}-gateway"
  inbound_policy  = "DROP"
  outbound_policy = "ACCEPT"
  linodes         = linode_instance.gateway[*].id

  inbound {
    label    = "imap-pop3-from-nodebalancer"
    action   = "ACCEPT"
    protocol = "TCP"
    ports    = "143,993,110,995,4190"
    ipv4     = [local.nodebalancer_cidr]
  }

  dynamic "inbound" {
    for_each = length(var.admin_cidrs) > 0 ? [1] : []
    content {
      label    = "ssh"
      action   = "ACCEPT"
      protocol = "TCP"
      ports    = "22"
      ipv4     = local.admin_ipv4
      ipv6     = local.admin_ipv6
    }
  }
}

# Redis: 6379 only from this deployment's instances (the private network
# of a region is shared with other customers, so the range is not enough).
resource "linode_firewall" "redis" {
  label           = "${var.label_prefix}-redis"
  inbound_policy  = "DROP"
  outbound_policy = "ACCEPT"
  linodes         = [linode_instance.redis.id]

  inbound {
    label    = "redis-from-bucketmail"
    action   = "ACCEPT"
    protocol = "TCP"
    ports    = "6379"
    ipv4     = local.private_clients
  }

  dynamic "inbound" {
    for_each = length(var.admin_cidrs) > 0 ? [1] : []
    content {
      label    = "ssh"
      action   = "ACCEPT"
      protocol = "TCP"
      ports    = "22"
      ipv4     = local.admin_ipv4
      ipv6     = local.admin_ipv6
    }
  }
}
