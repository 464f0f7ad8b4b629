# The NodeBalancer in front of the gateways (IMAP, POP3, ManageSieve) and, with
# submission_via_nodebalancer, of the edges for submission. Plain TCP
# pass-through: TLS ends on bucketmail, so STARTTLS and implicit TLS both
# work and the certificate lives in one place.

locals {
  nodebalancer_ports = merge(
    {
      imap  = { port = 143, role = "gateway" }
      imaps = { port = 993, role = "gateway" }
      pop3  = { port = 110, role = "gateway" }
      pop3s = { port = 995, role = "gateway" }
      # ManageSieve (RFC 5804) for filter editors.
      managesieve = { port = 4190, role = "gateway" }
    },
    var.submission_via_nodebalancer ? {
      submission  = { port = 587, role = "edge" }
      submissions = { port = 465, role = "edge" }
    } : {},
  )

  backends = {
    gateway = linode_instance.gateway[*].private_ip_address
    edge    = linode_instance.edge[*].private_ip_address
  }

  nodebalancer_nodes = merge([
    for name, c in local.nodebalancer_ports : {
      for i, ip in local.backends[c.role] : "${name}-${i}" => {
        config  = name
        label   = "${c.role}-${i + 1}"
        address = "${ip}:${c.port}"
      }
    }
  ]...)
}

resource "linode_nodebalancer" "mail" {
  label  = "${var.label_prefix}-mail"
  region = var.region
  tags   = concat(var.tags, ["bucketmail"])
}

# A NodeBalancer health check goes to the port that carries the traffic,
# so it cannot ask /readyz on the HTTP port. The backends run with
# BUCKETMAIL_READINESS_GATE=true instead: while /readyz would fail (Redis or
# the bucket unreachable) they stop listening on their mail ports, so this
# TCP connection check fails exactly when /readyz does; passive checks take
# out a backend that stops answering mid-stream.
resource "linode_nodebalancer_config" "mail" {
  for_each = local.nodebalancer_ports

  nodebalancer_id = linode_nodebalancer.mail.id
  port            = each.value.port
  protocol        = "tcp"
  proxy_protocol  = var.proxy_protocol
  algorithm       = "leastconn"
  stickiness      = "table"
  check           = "connection"
  check_interval  = 10
  check_timeout   = 5
  check_attempts  = 3
  check_passive   = true
}

resource "linode_nodebalancer_node" "mail" {
  for_each = local.nodebalancer_nodes

  nodebalancer_id = linode_nodebalancer.mail.id
  config_id       = linode_nodebalancer_config.mail[each.value.config].id
  label           = each.value.label
  address         = each.value.address
  weight          = 100
}
