/** colo4j tests module. */
package io.colo4j.tests;
