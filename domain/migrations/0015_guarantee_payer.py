from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('palmtrade', '0014_supervision')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Guarantee',
            name='payer_account',
            field=fields.CharField(null=True, max_length=64),
        ),
    ]
