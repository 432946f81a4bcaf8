"""Date formats of the whole site (FORMAT_MODULE_PATH): Django admin writes dates as the pages do, "2 Dec 2026 14:05".

Django's own English formats would win over DATETIME_FORMAT and DATE_FORMAT in the settings; a format module is
how a project replaces them.
"""
