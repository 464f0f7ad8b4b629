output "edge_addresses" {
  description = "Public IPv4 and IPv6 address of each edge, by host name (MX targets)."
  value = {
    for i, h in local.edge_fqdns : h => { ipv4 = local.edge_ipv4[i], ipv6 = local.edge_ipv6[i], private = linode_instance.edge[i].private_ip_address }
  }
}

output "worker_addresses" {
  description = "Public addresses (used for sending only) and private address of each worker."
  value = {
    for i, h in local.worker_fqdns : h => { ipv4 = local.worker_ipv4[i], ipv6 = local.worker_ipv6[i], private = linode_instance.worker[i].private_ip_address }
  }
}

output "gateway_private_addresses" {
  description = "Private addresses of the gateways (the NodeBalancer's backends)."
  value       = linode_instance.gateway[*].private_ip_address
}

output "nodebalancer" {
  description = "The NodeBalancer in front of the gateways: host name and addresses."
  value = {
    hostname = local.gateway_fqdn
    ipv4     = linode_nodebalancer.mail.ipv4
    ipv6     = linode_nodebalancer.mail.ipv6
  }
}

output "endpoints" {
  description = "What mail clients and other servers connect to."
  value = {
    mx          = local.edge_fqdns
    imap        = "${local.gateway_fqdn}:143 (STARTTLS)"
    imaps       = "${local.gateway_fqdn}:993"
    pop3        = "${local.gateway_fqdn}:110 (STLS)"
    pop3s       = "${local.gateway_fqdn}:995"
    managesieve = "${local.gateway_fqdn}:4190 (STARTTLS)"
    submission  = "${local.submission_fqdn}:587 (STARTTLS)"
    submissions = "${local.submission_fqdn}:465"
  }
}

output "redis_private_address" {
  description = "Private address of the Redis server (port 6379)."
  value       = linode_instance.redis.private_ip_address
}

output "bucket" {
  description = "The Object Storage bucket and its S3 endpoint."
  value = {
    name     = linode_object_storage_bucket.mail.label
    region   = local.os_region
    endpoint = local.s3_endpoint
  }
}

output "store_url" {
  description = "BUCKETMAIL_STORE for admin commands run on a host of the private network (contains the Redis password)."
  value       = local.store_url
  sensitive   = true
}

output "blobs_url" {
  description = "BUCKETMAIL_BLOBS of this deployment."
  value       = local.blobs_url
}

output "s3_access_key" {
  description = "Access key of the bucket-limited Object Storage key (BUCKETMAIL_S3_ACCESS_KEY)."
  value       = linode_object_storage_key.mail.access_key
}

output "s3_secret_key" {
  description = "Secret key of the bucket-limited Object Storage key (BUCKETMAIL_S3_SECRET_KEY)."
  value       = linode_object_storage_key.mail.secret_key
  sensitive   = true
}

output "dns_records" {
  description = "Every record written to the zone (name relative to the domain, \"\" is the apex)."
  value = concat(
    [for r in values(local.all_records) : { name = r.name, type = r.type, value = r.value, priority = r.priority }],
    [for s, r in local.srv_records : { name = "_${s}._tcp", type = "SRV", value = "0 1 ${r.port} ${r.target}", priority = 0 }],
  )
}

output "host_env" {
  description = "The environment file (/etc/bucketmail/env) of every instance, by public IPv4 address: what a settings change rolls out (docs/deploy-linode.md, \"Changing settings\")."
  sensitive   = true
  value = merge(
    { for i, inst in linode_instance.edge : inst.ip_address => { role = "edge", env = local.host_env.edge[i] } },
    { for i, inst in linode_instance.worker : inst.ip_address => { role = "worker", env = local.host_env.worker[i] } },
    { for i, inst in linode_instance.gateway : inst.ip_address => { role = "gateway", env = local.host_env.gateway[i] } },
  )
}
