/** colo4j cli module. */
package io.colo4j.cli;
