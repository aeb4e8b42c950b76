// Package fakead is scratch.
package fakead
