// Package infra holds no code: it is the home of the deployment files
// (terraform/, systemd/, k8s/) and of the test that checks them
// (infra_test.go: HCL, templates, YAML, flag names, units).
package infra
