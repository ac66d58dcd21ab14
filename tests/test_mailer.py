from __future__ import annotations

from relance_pipeline.ship.smtp import SmtpConfig, smtp_config


def test_the_port_defaults_to_the_one_of_the_chosen_security() -> None:
    assert smtp_config({"RELANCE_SMTP_HOST": "mail.example"}) == SmtpConfig("mail.example", 25, "plain")
    starttls = smtp_config({"RELANCE_SMTP_HOST": "mail.example", "RELANCE_SMTP_STARTTLS": "1"})
    ssl = smtp_config({"RELANCE_SMTP_HOST": "mail.example", "RELANCE_SMTP_SSL": "true"})
    assert isinstance(starttls, SmtpConfig) and (starttls.port, starttls.security) == (587, "starttls")
    assert isinstance(ssl, SmtpConfig) and (ssl.port, ssl.security) == (465, "ssl")


def test_every_setting_is_read_from_the_environment() -> None:
    config = smtp_config(
        {
            "RELANCE_SMTP_HOST": "smtp.example",
            "RELANCE_SMTP_PORT": "2525",
            "RELANCE_SMTP_USER": "camille",
            "RELANCE_SMTP_PASSWORD": "hunter2",
            "RELANCE_SMTP_STARTTLS": "1",
            "RELANCE_SMTP_TIMEOUT": "12",
        }
    )
    assert config == SmtpConfig("smtp.example", 2525, "starttls", "camille", "hunter2", 12.0)


def test_the_password_is_not_in_the_description_nor_the_repr() -> None:
    config = SmtpConfig("smtp.example", 587, "starttls", "camille", "hunter2")
    assert "hunter2" not in config.describe() and "hunter2" not in repr(config)


def test_wrong_settings_are_all_reported_by_name() -> None:
    problems = smtp_config(
        {
            "RELANCE_SMTP_PORT": "smtp",
            "RELANCE_SMTP_STARTTLS": "1",
            "RELANCE_SMTP_SSL": "1",
            "RELANCE_SMTP_TIMEOUT": "-3",
            "RELANCE_SMTP_PASSWORD": "hunter2",
        }
    )
    assert isinstance(problems, list)
    named = [p.message.split(":")[0] for p in problems]
    assert named == [
        "RELANCE_SMTP_HOST",
        "RELANCE_SMTP_SSL",
        "RELANCE_SMTP_PORT",
        "RELANCE_SMTP_TIMEOUT",
        "RELANCE_SMTP_USER",
    ]
    assert all("hunter2" not in str(p) for p in problems)


def test_a_login_without_tls_is_refused_before_any_connection() -> None:
    problems = smtp_config(
        {"RELANCE_SMTP_HOST": "smtp.example", "RELANCE_SMTP_USER": "camille", "RELANCE_SMTP_PASSWORD": "hunter2"}
    )
    assert isinstance(problems, list) and [p.code for p in problems] == ["smtp.config"]
    assert problems[0].message.startswith("RELANCE_SMTP_USER: logging in needs TLS")
    assert "hunter2" not in str(problems[0])


def test_the_submission_ports_mean_tls_without_a_flag() -> None:
    for port, security in (("587", "starttls"), ("465", "ssl"), ("2525", "plain")):
        config = smtp_config({"RELANCE_SMTP_HOST": "smtp.example", "RELANCE_SMTP_PORT": port})
        assert isinstance(config, SmtpConfig) and config.security == security, port
    login = {"RELANCE_SMTP_HOST": "smtp.example", "RELANCE_SMTP_PORT": "587", "RELANCE_SMTP_USER": "camille"}
    assert isinstance(smtp_config(login), SmtpConfig)


def test_clear_text_login_is_allowed_for_a_server_on_this_machine_only() -> None:
    clear = {"RELANCE_SMTP_USER": "camille", "RELANCE_SMTP_PASSWORD": "hunter2", "RELANCE_SMTP_ALLOW_CLEAR": "1"}
    local = smtp_config({"RELANCE_SMTP_HOST": "127.0.0.1", "RELANCE_SMTP_PORT": "2525", **clear})
    assert isinstance(local, SmtpConfig) and local.security == "plain"
    remote = smtp_config({"RELANCE_SMTP_HOST": "smtp.example", **clear})
    assert isinstance(remote, list)
    assert [p.message for p in remote] == [
        "RELANCE_SMTP_ALLOW_CLEAR: allows logging in without TLS to a server on this machine only, "
        "not to 'smtp.example'"
    ]
