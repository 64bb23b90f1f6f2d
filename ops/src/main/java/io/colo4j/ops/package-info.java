/** colo4j ops module. */
package io.colo4j.ops;
