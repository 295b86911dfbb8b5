"""Coordinators' commands, one module each (imported when the command runs): check, i18n (catalogs), stats, report, export, ask, patterns."""

__all__ = ["ask", "catalogs", "check", "export", "patterns", "report", "stats"]
