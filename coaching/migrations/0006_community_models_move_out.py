"""The email community's models move to the community app (community/migrations/0001).

State only: the tables stay where they are, under their names, with every row;
community's first migration takes them over under the same names.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("coaching", "0005_landing_and_email_community"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="BroadcastDelivery"),
                migrations.DeleteModel(name="Broadcast"),
                migrations.DeleteModel(name="Subscriber"),
                migrations.DeleteModel(name="SitePage"),
            ],
            database_operations=[],
        ),
    ]
