/** colo4j tensor module. */
package io.colo4j.tensor;
