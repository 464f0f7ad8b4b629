// Package sieve parses, validates and runs Sieve mail filtering scripts
// (RFC 5228) with the extensions listed in Capabilities. A script is
// compiled once with Compile and run against one message at a time with
// (*Script).Run, which returns the actions to take; the package does no
// I/O, so the caller (the worker) decides how each action is carried out.
//
// Every run is bounded (Limits): script size and nesting depth at compile
// time, instructions, redirects and variable sizes at run time, so a
// script cannot stall the process that runs it.
package sieve
