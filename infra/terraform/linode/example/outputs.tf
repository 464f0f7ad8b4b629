output "endpoints" {
  description = "Host names and ports for mail clients and MX."
  value       = module.bucketmail.endpoints
}

output "edge_addresses" {
  description = "Edge addresses (check their reverse DNS)."
  value       = module.bucketmail.edge_addresses
}

output "nodebalancer" {
  description = "The NodeBalancer of IMAP/POP3."
  value       = module.bucketmail.nodebalancer
}

output "dns_records" {
  description = "The records written to the zone."
  value       = module.bucketmail.dns_records
}

output "store_url" {
  description = "BUCKETMAIL_STORE for admin commands (terraform output -raw store_url)."
  value       = module.bucketmail.store_url
  sensitive   = true
}

output "worker_addresses" {
  description = "Worker addresses (sending; check their reverse DNS); admin commands run on any of them."
  value       = module.bucketmail.worker_addresses
}

output "bucket" {
  description = "The Object Storage bucket and its S3 endpoint (BUCKETMAIL_BLOBS takes the endpoint)."
  value       = module.bucketmail.bucket
}

output "host_env" {
  description = "The environment file of every instance, by public IPv4 address, to roll out a settings change (docs/deploy-linode.md, section 8)."
  value       = module.bucketmail.host_env
  sensitive   = true
}
