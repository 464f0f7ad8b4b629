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
