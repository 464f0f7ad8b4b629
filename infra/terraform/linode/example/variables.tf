# Inputs of the example: the module's own variables, with the same defaults,
# so every setting the docs mention can be set in terraform.tfvars
# (infra/example_test.go checks they stay in step).

variable "label_prefix" {
  description = "Prefix of every Linode label (instances, firewalls, NodeBalancer, key)."
  type        = string
  default     = "bucketmail"
}

variable "region" {
  description = "Linode region of the instances, the NodeBalancer and the private network (e.g. us-ord, nl-ams, de-fra-2)."
  type        = string
}

variable "image" {
  description = "Instance image; it must support cloud-init through the Metadata service (Linode's Debian 12 and Ubuntu 24.04 images do)."
  type        = string
  default     = "linode/debian12"
}

variable "authorized_keys" {
  description = "SSH public keys installed for root on every instance."
  type        = list(string)
}

variable "admin_cidrs" {
  description = "CIDRs allowed to reach SSH (22) on every instance; empty means no SSH from anywhere (use Lish)."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Extra tags put on every instance."
  type        = list(string)
  default     = []
}

variable "domain" {
  description = "The mail domain, managed as a Linode DNS zone by this module (e.g. example.org)."
  type        = string
}

variable "soa_email" {
  description = "SOA contact address of the DNS zone."
  type        = string
}

variable "gateway_hostname" {
  description = "Host name, relative to domain, of the NodeBalancer that serves IMAP and POP3 (and submission when submission_via_nodebalancer)."
  type        = string
  default     = "mail"
}

variable "edge_count" {
  description = "Number of SMTP edge instances; edge N is mxN.<domain>, has public IPv4/IPv6 with matching reverse DNS and is an MX of the domain."
  type        = number
  default     = 1
}

variable "edge_type" {
  description = "Linode plan of the edge instances."
  type        = string
  default     = "g6-standard-1"
}

variable "worker_count" {
  description = "Number of worker instances (local and outbound delivery); they have no public ports. Worker N sends as outN.<domain> (A/AAAA and reverse DNS)."
  type        = number
  default     = 2
}

variable "worker_type" {
  description = "Linode plan of the worker instances."
  type        = string
  default     = "g6-standard-1"
}

variable "worker_concurrency" {
  description = "Jobs each worker delivers at once (BUCKETMAIL_WORKER_CONCURRENCY)."
  type        = number
  default     = 8
}

variable "gateway_count" {
  description = "Number of IMAP/POP3 gateway instances behind the NodeBalancer."
  type        = number
  default     = 2
}

variable "gateway_type" {
  description = "Linode plan of the gateway instances."
  type        = string
  default     = "g6-standard-1"
}

variable "submission_via_nodebalancer" {
  description = "Also put the edges behind the NodeBalancer for submission (587, 465), so mail clients use one host name; port 25 always goes to the edges directly."
  type        = bool
  default     = false
}

variable "proxy_protocol" {
  description = "PROXY protocol version the NodeBalancer sends to the backends (none, v1, v2), so they see the client's address; the backends then require it from the NodeBalancer range (BUCKETMAIL_PROXY_PROTOCOL_FROM)."
  type        = string
  default     = "v2"
}

variable "redis_type" {
  description = "Linode plan of the Redis instance (memory holds the index and queue)."
  type        = string
  default     = "g6-standard-2"
}

variable "redis_volume_size" {
  description = "Size in GB of the Block Storage volume that holds Redis's AOF and snapshots (it outlives the Redis instance); at least twice the memory of redis_type."
  type        = number
  default     = 20
}

variable "redis_password" {
  description = "Password of the Redis server (requirepass); at least 32 characters, e.g. from `openssl rand -hex 24`."
  type        = string
  sensitive   = true
}

variable "bucket_name" {
  description = "Name of the Object Storage bucket for message objects, DKIM keys and index snapshots (globally unique within the region)."
  type        = string
}

variable "object_storage_region" {
  description = "Object Storage region of the bucket (e.g. us-ord); empty means region."
  type        = string
  default     = ""
}

variable "object_storage_endpoint_type" {
  description = "Object Storage endpoint type of the bucket (E0, E1, E2, E3); null lets Linode choose the region's default."
  type        = string
  default     = null
}

variable "object_storage_endpoint" {
  description = "S3 endpoint host to use instead of the bucket's own (its s3_endpoint attribute); empty means the bucket's."
  type        = string
  default     = ""
}

variable "release_url" {
  description = "URL of the bucketmail linux/amd64 binary (`make release` builds dist/bucketmail-linux-amd64), e.g. a GitHub release asset."
  type        = string
}

variable "release_sha256" {
  description = "SHA-256 of the binary at release_url (dist/SHA256SUMS); cloud-init refuses a binary that does not match."
  type        = string
}

variable "extra_env" {
  description = "Extra BUCKETMAIL_* settings written into the environment file of every role (e.g. BUCKETMAIL_TLS_CERT, BUCKETMAIL_LOG_LEVEL)."
  type        = map(string)
  default     = {}
}

variable "dns_records_file" {
  description = "Path of the output of `bucketmail dns --format json DOMAIN`; empty lets the module build the policy records."
  type        = string
  default     = ""
}

variable "spf_mechanisms" {
  description = "Extra SPF mechanisms of the domain's record, before -all (e.g. [\"include:_spf.relay.example\"] as a relay documents it); the module always lists mx and the workers' addresses."
  type        = list(string)
  default     = []
}

variable "relay_spf" {
  description = "SPF mechanism that authorizes the relay of BUCKETMAIL_RELAY_HOST (extra_env); empty means a:<relay host> (ip4:/ip6: for an address). Set it to the include: the relay documents when its sending hosts are not its submission host."
  type        = string
  default     = ""
}

variable "dkim_records" {
  description = "DKIM TXT values by selector, as `bucketmail dkim list` prints them (\"v=DKIM1; k=ed25519; p=...\"); used when dns_records is empty."
  type        = map(string)
  default     = {}
}

variable "dmarc_policy" {
  description = "DMARC policy of the domain (none, quarantine, reject); used when dns_records is empty."
  type        = string
  default     = "quarantine"
}

variable "report_address" {
  description = "Address that receives DMARC aggregate and TLS-RPT reports; empty means postmaster@<domain>."
  type        = string
  default     = ""
}

variable "mta_sts_id" {
  description = "id of the MTA-STS TXT record (RFC 8461 section 3.1); change it whenever the policy changes. Empty leaves the record out (until an HTTPS server serves the policy at mta-sts.<domain>)."
  type        = string
  default     = "1"
}

variable "dns_ttl" {
  description = "TTL in seconds of the records this module writes."
  type        = number
  default     = 3600
}
