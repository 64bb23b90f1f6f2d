package io.colo4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.slf4j.helpers.NOPLoggerFactory;

/** A warning reaches the user with no SLF4J provider bound (this module's tests have none: SLF4J's NOP logger). */
class UserWarningsTest {
    @Test
    void withoutAnSlf4jProviderTheWarningGoesToStandardError() {
        assertThat(LoggerFactory.getILoggerFactory()).as("this module's tests run without an SLF4J provider").isInstanceOf(NOPLoggerFactory.class);
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        UserWarnings.warn(UserWarningsTest.class, "3 parameters left replicated",
                LoggerFactory.getILoggerFactory(), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo("WARN io.colo4j.tensor.UserWarningsTest - 3 parameters left replicated" + System.lineSeparator());
    }
}
