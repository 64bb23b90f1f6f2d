/** colo4j model-zoo module. */
package io.colo4j.zoo;
